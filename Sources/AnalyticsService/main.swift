import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "analytics", portVariable: "ANALYTICS_PORT", defaultPort: 8083)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
