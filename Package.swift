// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "SwiftDL",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SwiftDL", targets: ["SwiftDL"]),
        .executable(name: "examples", targets: ["Examples"]),
        .executable(name: "benchmarks", targets: ["Benchmarks"]),
        .executable(name: "train-mnist", targets: ["TrainMNIST"]),
        .executable(name: "gan", targets: ["GAN"]),
        .executable(name: "neural-ode", targets: ["NeuralODE"]),
        .executable(name: "pinn-burgers", targets: ["PINNBurgers"]),
        .library(name: "SwiftDLMPI", targets: ["SwiftDLMPI"]),
        .executable(name: "parallel-training", targets: ["ParallelTraining"]),
    ],
    traits: [
        .default(enabledTraits: []),
        .trait(name: "MPI", description: "Data-parallel training over MPI processes (SwiftDLMPI's MPICommunicator); needs Open MPI (libopenmpi-dev, scripts/bootstrap.sh --mpi)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        .systemLibrary(
            name: "CFFTW",
            path: "Sources/CFFTW",
            pkgConfig: "fftw3",
            providers: [.apt(["libfftw3-dev"]), .brew(["fftw"])]
        ),
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CDNNL",
            path: "Sources/CDNNL",
            providers: [.apt(["libdnnl-dev"]), .brew(["onednn"])]
        ),
        .target(
            name: "CSwiftDLSupport",
            dependencies: ["COpenBLAS", "CFFTW"],
            // dlopen, for libmvec (BoxMuller.c): in libc itself from glibc 2.34, in libdl before.
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        .target(
            name: "SwiftDL",
            dependencies: [
                "COpenBLAS",
                "CFFTW",
                "CDNNL",
                "CSwiftDLSupport",
                "CZlib",
                .product(name: "Numerics", package: "swift-numerics"),
            ]
        ),
        .target(
            name: "SeedExamples",
            dependencies: ["SwiftDL", .product(name: "Numerics", package: "swift-numerics")]
        ),
        .executableTarget(name: "Examples", dependencies: ["SwiftDL", "SeedExamples", "GANKit"]),
        .executableTarget(name: "Benchmarks", dependencies: ["SwiftDL", "GANKit", "SwiftDLMPI"]),
        .executableTarget(name: "NeuralODE", dependencies: ["SwiftDL"]),
        .executableTarget(name: "PINNBurgers", dependencies: ["SwiftDL"]),
        .target(name: "MNISTClassifier", dependencies: ["SwiftDL"]),
        .target(name: "GANKit", dependencies: ["SwiftDL", "MNISTClassifier"]),
        .executableTarget(
            name: "GAN",
            dependencies: ["SwiftDL", "GANKit", "SwiftDLMPI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "TrainMNIST",
            dependencies: ["SwiftDL", "MNISTClassifier", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]
        ),
        .target(
            name: "SwiftDLMPI",
            dependencies: ["SwiftDL", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]
        ),
        .executableTarget(
            name: "ParallelTraining",
            dependencies: ["SwiftDL", "SwiftDLMPI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "SwiftDLTests",
            dependencies: ["SwiftDL", "SeedExamples", "MNISTClassifier", "GANKit", "CZlib", .product(name: "Numerics", package: "swift-numerics")],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
