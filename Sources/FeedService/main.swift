import Shared
import SocialCore

await ServiceMain.run("feed", configuration: { try SocialConfiguration(.feed, environment: $0) }, build: buildFeedApplication(configuration:))
