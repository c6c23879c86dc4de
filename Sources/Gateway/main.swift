import GatewayCore
import Shared

await ServiceMain.run("gateway", configuration: GatewayConfiguration.init(environment:), build: buildApplication(configuration:))
