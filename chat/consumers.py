"""The websocket edge: authenticate, parse each frame, answer with typed frames."""

from channels.generic.websocket import AsyncWebsocketConsumer

from chat.protocol import Ping, Pong, ProtocolError, ServerFrame, parse_client_frame

# Closing before accept refuses the handshake (HTTP 403); the code is for servers that report it.
CLOSE_UNAUTHENTICATED = 4401


class ChatConsumer(AsyncWebsocketConsumer):
    """One browser tab's connection at /ws/chat/."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = parse_client_frame(text_data if text_data is not None else bytes_data)
        except ProtocolError as error:
            await self.send_frame(error.frame)
            return
        if isinstance(frame, Ping):
            await self.send_frame(Pong())

    async def send_frame(self, frame: ServerFrame):
        """Send one typed frame as JSON."""
        await self.send(text_data=frame.model_dump_json())
