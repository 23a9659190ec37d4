/// The windows of `x` (`[N, C, spatial…]`, canonical order) unfolded into columns
/// `[C·K, N·L]` (K elements per window, L window positions), padding filled with `padValue`.
/// Traced: its derivative is ``columnsToWindows(_:geometry:batch:channels:)``, and that one's is
/// this, so convolutions and pooling built on them have derivatives of every order.
func windowsToColumns(_ x: DLArray, geometry: WindowGeometry, padValue: Double = 0) -> DLArray {
    let (batch, channels) = (x.shape[0], x.shape[1])
    return dispatchFloating(x.dataType, WindowsToColumns(x: stripdims(x), geometry: geometry, padValue: padValue))
        .recorded(from: x) { g in columnsToWindows(g, geometry: geometry, batch: batch, channels: channels) }
}

/// Columns `[C·K, N·L]` folded back into `[N, C, spatial…]`, overlapping window elements added.
func columnsToWindows(_ columns: DLArray, geometry: WindowGeometry, batch: Int, channels: Int) -> DLArray {
    dispatchFloating(columns.dataType, ColumnsToWindows(columns: columns, geometry: geometry, batch: batch, channels: channels))
        .recorded(from: columns) { g in windowsToColumns(g, geometry: geometry) }
}
