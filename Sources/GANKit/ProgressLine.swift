import Foundation

/// The live progress line of a training run: iteration, epoch, losses, D's scores, speed and
/// time left. On a terminal it is redrawn in place (at most ten times a second); otherwise (a
/// file, a pipe, CI) it becomes plain lines, one every `plainInterval` iterations and one at
/// the end.
public struct ProgressLine {
    private let output: FileHandle
    private let isTerminal: Bool
    private let plainInterval: Int
    private var lastDrawn = Date.distantPast

    /// A progress line on `output` (standard error by default), redrawn in place when `output`
    /// is a terminal.
    public init(output: FileHandle = .standardError, totalIterations: Int) {
        self.output = output
        isTerminal = isatty(output.fileDescriptor) != 0
        plainInterval = Swift.max(1, totalIterations / 20)
    }

    /// The text of the line.
    public static func text(_ record: GANStepRecord, of total: Int, epoch: Double?, stepsPerSecond: Double) -> String {
        let left = stepsPerSecond > 0 ? Double(total - record.iteration) / stepsPerSecond : 0
        let epochText = epoch.map { String(format: "  epoch %.2f", $0) } ?? ""
        return String(format: "iteration %d/%d%@  loss D %.4f G %.4f  D(real) %.3f D(fake) %.3f  %.1f steps/s  %@ left",
                      record.iteration, total, epochText, record.discriminatorLoss, record.generatorLoss,
                      record.realScore, record.fakeScore, stepsPerSecond, Self.duration(left))
    }

    /// A duration as `m:ss` or `h:mm:ss`.
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.isFinite ? seconds.rounded() : 0)
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }

    /// Shows `record` (redrawn on a terminal, or as a plain line at the interval or at the end).
    public mutating func show(_ record: GANStepRecord, of total: Int, epoch: Double?, stepsPerSecond: Double) {
        let last = record.iteration == total
        if isTerminal {
            guard last || Date().timeIntervalSince(lastDrawn) >= 0.1 else { return }
            lastDrawn = Date()
            let line = Self.text(record, of: total, epoch: epoch, stepsPerSecond: stepsPerSecond)
            output.write(Data(("\r" + line + "\u{1B}[K" + (last ? "\n" : "")).utf8))
        } else if last || record.iteration % plainInterval == 0 {
            output.write(Data((Self.text(record, of: total, epoch: epoch, stepsPerSecond: stepsPerSecond) + "\n").utf8))
        }
    }

    /// Writes a message on its own line (ending a line drawn in place first).
    public func note(_ message: String) {
        output.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }
}
