import AnalyticsCore
import Shared

await ServiceMain.run("analytics") { try buildApplication(configuration: AnalyticsConfiguration()) }
