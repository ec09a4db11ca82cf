from .cli import cli

if __name__ == "__main__":  # not when a worker process (loaders/chart_render.py) imports it
    cli()
