"""`glyphart explore`: a local web studio over one preset's glyphs, and `glyphart gallery`.

    draw.py     glyph pixels for the page: tiles, walk frames, the channel's view (one worker)
    wire.py     the websocket's frames (a colour table and coverage bytes, or RGB)
    view.py     the view's state (what the URL carries) and request parameters, validated
    exports.py  what is on screen -> the same files the CLI writes, under the export folder
    app.py      the Starlette app: routes, websocket, Host/Origin checks
    serve.py    uvicorn on 127.0.0.1, the browser opened
    gallery.py  a static index.html for a folder of exports
    static/     the page: plain HTML, CSS and JS, no build step
"""
