import RestrictionCore
import Shared

await ServiceMain.run("restriction", configuration: RestrictionConfiguration.init(environment:), build: buildApplication(configuration:))
