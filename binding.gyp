{
  "variables": {
    "rb_cflags": [
      "-O3",
      "-std=c++17",
      "-fvisibility=hidden",
      "-fno-math-errno",
      "-Wall",
      "-Wextra"
    ]
  },
  "target_defaults": {
    "cflags!": [
      "-fno-exceptions",
      "-O2",
      "-O0"
    ],
    "cflags_cc!": [
      "-fno-exceptions",
      "-std=gnu++17",
      "-std=gnu++14",
      "-O2",
      "-O0"
    ],
    "cflags_cc": [
      "<@(rb_cflags)",
      "-fexceptions"
    ],
    "defines": [
      "NAPI_VERSION=8",
      "NAPI_CPP_EXCEPTIONS",
      "NODE_ADDON_API_DISABLE_DEPRECATED"
    ]
  },
  "targets": [
    {
      "target_name": "rb_avx2",
      "type": "static_library",
      "sources": [
        "<!@(node -p \"require('./native/isa-flags.json').levels.avx2.sources.join(' ')\")"
      ],
      "cflags_cc": [
        "<!@(node -p \"require('./native/isa-flags.json').levels.avx2.flags.join(' ')\")",
        "-fPIC"
      ],
      "conditions": [["target_arch!='x64'", {"sources/": [["exclude", "."]]}]]
    },
    {
      "target_name": "rb_avx512",
      "type": "static_library",
      "sources": [
        "<!@(node -p \"require('./native/isa-flags.json').levels.avx512.sources.join(' ')\")"
      ],
      "cflags_cc": [
        "<!@(node -p \"require('./native/isa-flags.json').levels.avx512.flags.join(' ')\")",
        "-fPIC"
      ],
      "conditions": [["target_arch!='x64'", {"sources/": [["exclude", "."]]}]]
    },
    {
      "target_name": "rb_avx512x",
      "type": "static_library",
      "sources": [
        "<!@(node -p \"require('./native/isa-flags.json').levels.avx512x.sources.join(' ')\")"
      ],
      "cflags_cc": [
        "<!@(node -p \"require('./native/isa-flags.json').levels.avx512x.flags.join(' ')\")",
        "-fPIC"
      ],
      "conditions": [["target_arch!='x64'", {"sources/": [["exclude", "."]]}]]
    },
    {
      "target_name": "recbridge",
      "dependencies": [
        "rb_avx2",
        "rb_avx512",
        "rb_avx512x"
      ],
      "sources": [
        "native/kernels/isa.cpp",
        "native/kernels/kernel_table.cpp",
        "native/kernels/scalar.cpp",
        "native/kernels/scoring.cpp",
        "native/kernels/pooling.cpp",
        "native/kernels/thread_pool.cpp",
        "native/kernels/train_mf.cpp",
        "native/kernels/train_records.cpp",
        "native/kernels/als.cpp",
        "native/kernels/dense.cpp",
        "native/kernels/tower.cpp",
        "native/kernels/mlp.cpp",
        "native/kernels/two_tower.cpp",
        "native/kernels/item_knn.cpp",
        "native/kernels/quantized.cpp",
        "native/kernels/spd.cpp",
        "native/kernels/graph.cpp",
        "native/addon/addon.cpp",
        "native/addon/args.cpp",
        "native/addon/scoring_bindings.cpp",
        "native/addon/batch_worker.cpp",
        "native/addon/train_bindings.cpp",
        "native/addon/als_bindings.cpp",
        "native/addon/two_tower_bindings.cpp",
        "native/addon/mlp_bindings.cpp",
        "native/addon/neighbour_bindings.cpp",
        "native/addon/quantized_bindings.cpp",
        "native/addon/spd_bindings.cpp",
        "native/addon/graph_bindings.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "libraries": [
        "-pthread"
      ]
    }
  ]
}
