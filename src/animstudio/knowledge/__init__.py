"""The knowledge base: characters, styles, generations, analysed films and documents, searched by
meaning and by words at once, kept in step with their sources, and asked questions with citations."""
