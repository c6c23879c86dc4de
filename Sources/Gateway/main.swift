import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "gateway", portVariable: "GATEWAY_PORT", defaultPort: 8080)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
