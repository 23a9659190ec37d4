/// The log entries a run keeps in memory for its training plot, in bounded memory however long
/// the run: every entry until there are more than `capacity`, then those of every second
/// iteration, then of every fourth, and so on. Which entries are kept depends only on the
/// iterations appended, so a resumed run keeps the same ones as an uninterrupted run. The full
/// log is the run's `log.jsonl` file.
public struct GANHistory: Sendable {
    /// The entries kept, in the order appended.
    public private(set) var entries: [GANLogEntry] = []
    /// The most entries kept.
    public let capacity: Int
    /// Only entries of iterations that are multiples of this are kept.
    public private(set) var iterationStride = 1
    /// The last entry appended.
    public private(set) var last: GANLogEntry?
    /// The last measures appended.
    public private(set) var lastMeasures: GANMeasures?
    /// The last step record appended.
    public private(set) var lastStep: GANStepRecord?

    /// An empty history that keeps at most `capacity` entries (at least 2).
    public init(capacity: Int = 4000) {
        self.capacity = Swift.max(capacity, 2)
    }

    /// Appends an entry, thinning the entries kept when there are too many.
    public mutating func append(_ entry: GANLogEntry) {
        last = entry
        if let measures = entry.measures { lastMeasures = measures }
        if let step = entry.step { lastStep = step }
        guard entry.iteration % iterationStride == 0 else { return }
        entries.append(entry)
        while entries.count > capacity {
            iterationStride *= 2
            entries.removeAll { $0.iteration % iterationStride != 0 }
        }
    }
}
