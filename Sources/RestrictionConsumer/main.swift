import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "restriction", portVariable: "RESTRICTION_PORT", defaultPort: 8082)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
