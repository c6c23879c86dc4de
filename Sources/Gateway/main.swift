import GatewayCore
import Shared

await ServiceMain.run("gateway") { try buildApplication(configuration: GatewayConfiguration()) }
