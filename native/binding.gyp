{
  "variables": {
    "dnnl_root%": "<!(node -p \"process.env.DNNL_ROOT || ''\")"
  },
  "targets": [
    {
      "target_name": "sssseg_native",
      "sources": ["src/addon.cc", "src/kernels.cc", "src/matmul.cc", "src/onednn.cc", "src/elementwise.cc", "src/pooling.cc", "src/batchnorm.cc", "src/addon-train.cc"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "libraries": ["-ldnnl", "-lgomp"],
      "ldflags": ["-fopenmp"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["dnnl_root!=''", {
          "include_dirs": ["<(dnnl_root)/include"],
          "libraries": ["-L<(dnnl_root)/lib", "-Wl,-rpath,<(dnnl_root)/lib"]
        }]
      ]
    }
  ]
}
