"""Speech recognition: the streaming Recognizer protocol and its local engines."""
