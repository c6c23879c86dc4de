import Shared

let configuration = ServiceConfiguration(service: "analytics", portVariable: "ANALYTICS_PORT", defaultPort: 8083)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
