"""The lucidnet.datasets package: its public names, each re-exported from its module."""

from lucidnet import datasets
from lucidnet.datasets import idx, images, tabular, toy


def test_public_api_is_re_exported_from_the_modules():
    expected = {
        toy: ["and_gate", "circles", "fruit", "moons", "or_gate", "spirals", "xor"],
        idx: ["IDXError", "read_idx"],
        images: [
            "DEBIAN_DIRS",
            "DOWNLOAD_TIMEOUT",
            "MIRRORS",
            "SHA256",
            "DatasetNotFoundError",
            "load_fashion_mnist",
            "load_mnist",
        ],
        tabular: ["CSVTable", "RawTable", "load_csv", "read_csv", "read_raw"],
    }
    names = [name for module_names in expected.values() for name in module_names]
    assert sorted(datasets.__all__) == sorted(names) and len(set(names)) == len(names)
    for module, module_names in expected.items():
        assert sorted(module.__all__) == sorted(module_names), module.__name__
        for name in module_names:
            assert getattr(datasets, name) is getattr(module, name), name
