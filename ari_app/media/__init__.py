"""Media: external-media transports (RTP, WebSocket), pacing, codecs and voice activity."""
