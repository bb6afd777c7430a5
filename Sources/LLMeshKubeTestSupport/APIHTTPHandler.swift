import Foundation
import LLMeshKube
import NIOCore
import NIOHTTP1

/// One HTTP connection of the test API server: collects each request, answers it from the store, and streams watches.
final class APIHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let store: APIStore
    private let maximumBodyBytes: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var watchID: UUID?

    init(store: APIStore, maximumBodyBytes: Int) {
        self.store = store
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let watchID {
            let store = self.store
            Task { await store.stopWatch(watchID) }
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > maximumBodyBytes {
                tooLarge = true
                body = []
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if tooLarge {
                respond(context: context, head: requestHead, status: 413, json: APIStatus(code: 413, reason: "RequestEntityTooLarge", message: "the request body is larger than \(maximumBodyBytes) bytes").json)
                return
            }
            let request = body
            body = []
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let store = self.store
            Task {
                let answer = await APIRouter(store: store).answer(head: requestHead, body: request) { event in
                    eventLoop.execute {
                        let (handler, context) = loopBound.value
                        handler.streamWatchEvent(event, context: context)
                    }
                } onWatchStart: { id in
                    eventLoop.execute {
                        let (handler, context) = loopBound.value
                        handler.watchID = id
                        let headers = HTTPHeaders([("content-type", "application/json"), ("transfer-encoding", "chunked"), ("cache-control", "no-cache, private")])
                        context.writeAndFlush(handler.wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: .ok, headers: headers))), promise: nil)
                    }
                }
                guard let answer else { return }
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.respond(context: context, head: requestHead, status: answer.status, json: answer.json, extraHeaders: answer.headers)
                }
            }
        }
    }

    /// Writes one watch event line, or ends the stream for `nil`.
    private func streamWatchEvent(_ event: JSONValue?, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if let event {
            var line = event.jsonBytes()
            line.append(UInt8(ascii: "\n"))
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: line)))), promise: nil)
        } else {
            watchID = nil
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, json: JSONValue, extraHeaders: [(String, String)] = []) {
        let bytes = json.jsonBytes()
        var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", String(bytes.count))])
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        let keepAlive = head.isKeepAlive
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
