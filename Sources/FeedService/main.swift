import Shared

let configuration = ServiceConfiguration.loadOrExit(service: "feed", portVariable: "FEED_PORT", defaultPort: 8087)
let app = buildApplication(config: configuration)
await app.runServiceOrExit()
