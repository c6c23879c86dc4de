import Shared
import StreamCore

await ServiceMain.run("stream") { try buildApplication(configuration: StreamConfiguration()) }
