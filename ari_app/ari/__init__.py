"""ARI: typed async REST client and events WebSocket on aiohttp, with reconnect."""
