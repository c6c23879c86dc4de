import FlagCore
import Shared

await ServiceMain.run("flags", configuration: FlagServiceConfiguration.init(environment:), build: buildApplication(configuration:))
