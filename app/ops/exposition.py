"""The /metrics text: published counters of every machine plus the gauges, in the Prometheus format."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from app import metrics
from app.ops import gauges, metrics_store


def _families():
    """Return {family name: Metric} with zero samples for every unlabelled family, ready to add to."""
    families = {}
    for collector in metrics.COLLECTORS:
        for described in collector.describe():
            family = Metric(described.name, described.documentation, described.type)
            families[described.name] = family
    return families


def _zeros(families):
    zero = {}
    for name, family in families.items():
        if family.type == "counter" and name in metrics.UNLABELLED:
            zero[metrics_store.sample_key(f"{name}_total", {})] = 0.0
        elif family.type == "histogram":
            for bound in (*metrics.DURATION_BUCKETS, float("inf")):
                zero[metrics_store.sample_key(f"{name}_bucket", {"le": floatToGoString(bound)})] = 0.0
            for suffix in ("_count", "_sum"):
                zero[metrics_store.sample_key(name + suffix, {})] = 0.0
    return zero


def _family_name(sample_name, families):
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if sample_name.endswith(suffix) and sample_name[:-len(suffix)] in families:
            return sample_name[:-len(suffix)]
    return sample_name


class _Scrape:
    """A collector for one scrape: the summed counters and the gauges."""

    def __init__(self, summed):
        self.summed = summed

    def collect(self):
        families = _families()
        for key, value in {**_zeros(families), **self.summed}.items():
            name, labels = metrics_store.parse_key(key)
            family = families.get(_family_name(name, families))
            if family is not None:
                family.add_sample(name, labels, value)
        yield from families.values()
        yield from gauges.collect()


def render():
    """Publish this machine's counters, add up every machine's, and return the exposition text."""
    metrics_store.publish_local()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(metrics_store.totals()))
    return generate_latest(registry)
