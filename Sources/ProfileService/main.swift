import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "profile", portVariable: "PROFILE_PORT", defaultPort: 8085)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
