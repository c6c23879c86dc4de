import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "post", portVariable: "POST_PORT", defaultPort: 8086)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
