"""Video analysis: shots, composition, camera motion, temporal coherence and audio."""
