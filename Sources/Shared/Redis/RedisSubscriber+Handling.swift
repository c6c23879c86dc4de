extension RedisSubscriber {
    /// Runs the subscriber and hands each event to `handle`, in order, until graceful
    /// shutdown or cancellation stops it: what a service that lives on a channel runs.
    public func run(handling handle: @escaping @Sendable (RedisPubSubEvent) async -> Void) async {
        await withDiscardingTaskGroup { group in
            group.addTask { try? await self.run() }
            group.addTask {
                for await event in self.events { await handle(event) }
            }
        }
    }
}
