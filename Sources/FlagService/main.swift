import FlagCore
import Shared

await ServiceMain.run("flags") { try buildApplication(configuration: FlagServiceConfiguration()) }
