import AnalyticsCore
import Shared

await ServiceMain.run("analytics", configuration: AnalyticsConfiguration.init(environment:), build: buildApplication(configuration:))
