import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of WebSocket upgrades: Hummingbird's storage, the handler reference
/// hummingbird-websocket needs, and the channel, so a stuck connection can be cut.
struct StreamWebSocketContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<StreamWebSocketContext>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}
