"""Voices: text to speech with emotions, speech recognition, lip-sync cues and voice datasets."""
