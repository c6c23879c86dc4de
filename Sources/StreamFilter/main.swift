import Shared
import StreamCore

await ServiceMain.run("stream", configuration: StreamConfiguration.init(environment:), build: buildApplication(configuration:))
