import Shared
import SocialCore

await ServiceMain.run(
    "profile",
    configuration: { try SocialConfiguration(.profile, environment: $0) },
    build: buildProfileApplication(configuration:)
)
