import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "stream", portVariable: "STREAM_PORT", defaultPort: 8084)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
