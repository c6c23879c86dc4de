import Shared
import SocialCore

await ServiceMain.run("post") { try buildPostApplication(configuration: SocialConfiguration(.post)) }
