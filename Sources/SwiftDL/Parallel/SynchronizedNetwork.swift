extension DLNetwork {
    /// This network with every batch normalization layer taking its training statistics over
    /// the global mini-batch of `communicator`'s workers (PyTorch's `SyncBatchNorm`), or, with
    /// nil, over each worker's own batch again.
    ///
    /// Each worker then normalizes with the same statistics and updates the same running
    /// statistics as one process given the whole mini-batch; the gradients, aggregated with
    /// ``aggregateGradients(_:factor:over:)``, are those of the whole mini-batch. Every worker
    /// must run the forward (and backward) pass together, as the statistics are reduced
    /// inside it. The communicator is not saved with the network.
    public func synchronizingBatchStatistics(over communicator: (any DLCommunicator)?) -> DLNetwork {
        var network = self
        for index in network.layers.indices {
            guard var layer = network.layers[index] as? BatchNormalizationLayer else { continue }
            layer.communicator = communicator
            network.layers[index] = layer
        }
        return network
    }
}
