import Shared
import SocialCore

await ServiceMain.run("profile") { try buildProfileApplication(configuration: SocialConfiguration(.profile)) }
