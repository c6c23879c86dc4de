import Shared
import SocialCore

await ServiceMain.run("post", configuration: { try SocialConfiguration(.post, environment: $0) }, build: buildPostApplication(configuration:))
