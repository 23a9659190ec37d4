import Foundation
import Testing
@testable import SwiftDL

@Suite struct NetworkFileTests {
    /// A fresh temporary folder.
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftdl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aNetworkRoundTripsExactly() throws {
        var net = try DLNetworkTests.classifier()
        let (_, state) = try net.forward(DLNetworkTests.images)
        net.state = state
        try net.setLearnRateFactor(layer: "conv", parameter: "Weights", 0)
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("classifier.safetensors")
        try net.write(to: url)
        let loaded = try DLNetwork(contentsOf: url)
        #expect(loaded.layers.map(\.name) == net.layers.map(\.name))
        #expect(loaded.learnRateFactors == net.learnRateFactors)
        for (a, b) in zip(loaded.learnables.rows + loaded.state.rows, net.learnables.rows + net.state.rows) {
            #expect(a.layer == b.layer && a.parameter == b.parameter)
            #expect(a.value.scalars(as: Double.self).map(\.bitPattern) == b.value.scalars(as: Double.self).map(\.bitPattern))
        }
        let before = try net.predict(DLNetworkTests.images).scalars(as: Double.self)
        #expect(try loaded.predict(DLNetworkTests.images).scalars(as: Double.self) == before)
    }

    @Test func aGraphRoundTrips() throws {
        var net = try DLNetwork(
            layers: [FullyConnectedLayer(outputSize: 3, name: "a"), FullyConnectedLayer(outputSize: 3, name: "b"),
                     AdditionLayer(name: "sum"), ConcatenationLayer(name: "cat")],
            connections: ["a": ["x"], "b": ["x"], "sum": ["a", "b"], "cat": ["sum", "a"]], inputs: ["x"], outputs: ["cat"])
        let x = DLArray.randn([2, 4], labels: "BC", seed: 1)
        try net.initialize(x)
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("graph.safetensors")
        try net.write(to: url)
        let loaded = try DLNetwork(contentsOf: url)
        #expect(loaded.sources == net.sources && loaded.inputNames == ["x"] && loaded.outputNames == ["cat"])
        #expect(try loaded.predict(x).scalars(as: Float.self) == net.predict(x).scalars(as: Float.self))
    }

    @Test func loadingParametersChecksTheArchitectureAndChangesNothingOnError() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        var net = try DLNetworkTests.classifier()
        var trained = net
        trained.learnables = net.learnables.mapArrays { $0 * 2 }
        let url = directory.appendingPathComponent("trained.safetensors")
        try trained.write(to: url)
        try net.setLearnRateFactor(layer: "fc", 0)
        try net.loadParameters(from: url)
        #expect(net.learnables["fc", "Weights"]!.scalars(as: Double.self) == trained.learnables["fc", "Weights"]!.scalars(as: Double.self))
        #expect(try net.learnRateFactor(layer: "fc", parameter: "Weights") == 0)

        var other = try DLNetwork([FullyConnectedLayer(outputSize: 2, name: "fc")])
        try other.initialize(DLArray.zeros([1, 3], type: .float64, labels: "BC"))
        let otherURL = directory.appendingPathComponent("other.safetensors")
        try other.write(to: otherURL)
        let unchanged = net.learnables
        expectError(containing: "checkpoint of another model") { try net.loadParameters(from: otherURL) }
        #expect(zip(net.learnables.rows, unchanged.rows).allSatisfy {
            $0.value.scalars(as: Double.self) == $1.value.scalars(as: Double.self)
        })
    }

    @Test func filesThatAreNotNetworks() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("plain.safetensors")
        try SafeTensors.write(["w": DLArray([1.0])], to: plain)
        expectError(containing: "not a SwiftDL network") { _ = try DLNetwork(contentsOf: plain) }
        let missing = directory.appendingPathComponent("missing.safetensors")
        expectError(containing: "missing.safetensors") { _ = try DLNetwork(contentsOf: missing) }
        // A network whose architecture names a layer type SwiftDL does not know.
        var net = try DLNetwork([FlattenLayer(name: "f")])
        try net.initialize(DLArray.zeros([1, 2], labels: "BC"))
        let url = directory.appendingPathComponent("net.safetensors")
        try net.write(to: url)
        let (tensors, metadata) = try SafeTensors.read(from: url)
        let renamed = metadata.mapValues { $0.replacingOccurrences(of: "FlattenLayer", with: "MysteryLayer") }
        try SafeTensors.write(tensors, metadata: renamed, to: url)
        expectError(containing: "\"MysteryLayer\" is not a SwiftDL layer", "customLayers") { _ = try DLNetwork(contentsOf: url) }
        // A truncated file.
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: url)
        expectError(containing: "net.safetensors") { _ = try DLNetwork(contentsOf: url) }
    }
}

@Suite struct TrainingStateTests {
    @Test func optimizerStateTablesRoundTripAndFrozenLayersStayBitForBit() throws {
        var net = try DLNetworkTests.classifier()
        try net.setLearnRateFactor(layer: "conv", 0)
        let frozen = net.learnables["conv", "Weights"]!.scalars(as: Double.self).map(\.bitPattern)
        var average: DLParameterTable?, averageSquared: DLParameterTable?
        for iteration in 1...3 {
            let gradients = try dlfeval({ (net: DLNetwork) in
                try dlgradient(sum(log(net.forward(DLNetworkTests.images).output)), net.learnables)
            }, net)
            (net.learnables, average, averageSquared) = try adamupdate(net.learnables, gradients, average, averageSquared,
                                                                       iteration: iteration, learnRate: 0.01)
        }
        #expect(net.learnables["conv", "Weights"]!.scalars(as: Double.self).map(\.bitPattern) == frozen)
        #expect(net.learnables["fc", "Weights"]!.scalars(as: Double.self) != (try DLNetworkTests.classifier()).learnables["fc", "Weights"]!.scalars(as: Double.self))

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftdl-adam-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try average!.write(to: url)
        let loaded = try DLParameterTable(contentsOf: url)
        #expect(loaded.rows.map { "\($0.layer)/\($0.parameter)" } == average!.rows.map { "\($0.layer)/\($0.parameter)" })
        #expect(loaded.learnRateFactors == average!.learnRateFactors)
        for (a, b) in zip(loaded.rows, average!.rows) {
            #expect(a.value.scalars(as: Double.self).map(\.bitPattern) == b.value.scalars(as: Double.self).map(\.bitPattern))
        }
        try net.write(to: url)
        expectError(containing: "not a parameter table") { _ = try DLParameterTable(contentsOf: url) }
    }
}
