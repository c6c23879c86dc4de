import Foundation

/// Starts a process with posix_spawn, stdin from /dev/null and stdout+stderr appended to
/// `outputPath`. Reaped by the caller with waitpid (Foundation's Process can miss the exit
/// of a child whose own children daemonize).
func spawn(_ arguments: [String], environment: [String]? = nil, outputPath: String, searchPath: Bool) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let environment = environment ?? ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup($0) } + [nil]
    defer {
        for pointer in argv + envp { free(pointer) }
    }
    // Every signal at its default and none blocked: the test process ignores SIGTERM (its
    // services' lifecycle handles it), and an ignored signal stays ignored across exec, where a
    // shell script cannot even trap it.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var all = sigset_t()
    sigfillset(&all)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    var pid: pid_t = 0
    let result =
        searchPath
        ? posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        : posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    guard result == 0 else { throw Shell.Failure(command: arguments, status: result, output: "spawn failed") }
    return pid
}

/// The exit status encoded by waitpid: the code, or 128 + the signal.
func exitCode(_ raw: Int32) -> Int32 {
    (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
}
