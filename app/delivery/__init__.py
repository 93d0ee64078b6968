"""The webhook domain: plain functions over the models, no request or flash."""
