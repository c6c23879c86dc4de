import RestrictionCore
import Shared

await ServiceMain.run("restriction") { try buildApplication(configuration: RestrictionConfiguration()) }
