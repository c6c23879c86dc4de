import Shared
import SocialCore

await ServiceMain.run("feed") { try buildFeedApplication(configuration: SocialConfiguration(.feed)) }
