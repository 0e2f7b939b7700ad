"""nerkit as an HTTP service (`pip install 'nerkit[serve]'`): a REST API and a web page over one model."""
