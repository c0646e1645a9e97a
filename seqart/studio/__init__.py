"""seqart studio: play the models in a browser, and see inside them (`seqart studio`, docs/studio.md).

catalog.py (which models the studio offers: shipped ones and the folders given on the command
line), protocol.py (checking what arrives over the WebSocket), session.py (one browser tab's
socket: generation through the one Sampler), inside.py (states and densities through the
Sampler's watch hook), lstmvis.py (select and match views over cell states), app.py (the
Starlette app: pages, token, uploads), server.py (uvicorn), static/ (the pages, shipped in
the package: nothing is fetched from the internet at run time).
"""
