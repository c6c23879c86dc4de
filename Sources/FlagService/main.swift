import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "flags", portVariable: "FLAG_PORT", defaultPort: 8081)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
