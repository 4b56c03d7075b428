"""Growing a preset from its parent: a [model] changed in shape starts from every tensor of the
parent's that carries over, so a change costs minutes, not a retraining.

`grow(gen, dec, tensors, parent_model)` carries a parent's weights into freshly built modules:

- a tensor of the same name and shape is **copied**;
- one that grew (a wider layer, more message numbers) is **widened**: the parent's values in
  its leading slice, or, along the message, at the places the generator names
  (`message_places`); the new inputs of the parent's units start at zero, so those units
  compute what they did, and the new outputs keep their fresh initialisation (one that shrank
  is **cut** to the parent's leading slice);
- a module may then carry tensors its own way, knowing what its numbers mean: its
  `grow_from(parent_state, parent_model) -> {name: how}` runs once the above is done (every
  tensor of a matching name and shape already in place), loads what it knows better into
  itself and says how (strokes **split** their segments by de Casteljau; a finer field from a
  coarser one);
- the rest is **new**, and the parent's tensors nothing took are **dropped**.

Modules name the tensors whose axis runs along the message in `message_tensors` ({name:
axis}): the generator's first layer reads it, the decoder's readout writes it. The report lists
every tensor under what became of it; a parent of which nothing carries over is an error, never
a silent start from nothing.
"""

from __future__ import annotations

import torch

from .errors import GlyphartError

HOW = ("copied", "widened", "split", "cut", "rearranged", "new", "dropped")
CARRIED = ("copied", "widened", "split", "cut", "rearranged")


def grow(gen, dec, tensors: dict, parent_model, name: str) -> dict:
    """Carry `tensors` (a weights file's, prefixed generator. and decoder.) into gen and dec.
    `parent_model` is the parent's ModelSpec, or None when unknown (then shapes alone
    decide). Returns {how: [tensor names]}; raises if nothing carried over."""
    places = message_places(gen, parent_model, tensors)
    report = {how: [] for how in HOW}
    for prefix, module in (("generator", gen), ("decoder", dec)):
        parent = {k[len(prefix) + 1:]: v for k, v in tensors.items()
                  if k.startswith(prefix + ".")}
        for key, how in carry_module(module, parent, parent_model, places).items():
            report[how].append(f"{prefix}.{key}")
    if not any(report[how] for how in CARRIED):
        raise GlyphartError(f"[train] init_from = {name!r}: none of {name}'s tensors fit this "
                            "[model] (another kind or layout); remove init_from to train from "
                            "scratch, or grow from a preset of the same kind")
    if not any(key.startswith("generator.") for how in CARRIED for key in report[how]):
        raise GlyphartError(_no_generator_carried(gen, parent_model, name))
    return report


def _no_generator_carried(gen, parent_model, name: str) -> str:
    """Only the decoder would carry over: the glyphs would start from nothing in silence."""
    from .presets import RENAMED
    kinds = "" if parent_model is None else \
        f" ({name} is a {parent_model.generator} preset, this one {gen.spec.generator})"
    hint = f"; the {name} it grew from ships as {RENAMED[name]!r} now: set init_from = " \
        f"\"{RENAMED[name]}\", or" if name in RENAMED else ";"
    return (f"[train] init_from = {name!r}: none of its generator's tensors fit this [model]"
            f"{kinds}{hint} remove init_from to train from scratch")


def carry_module(module, parent: dict, parent_model, places) -> dict:
    """{tensor name: how} after carrying `parent` (unprefixed) into `module`: by name and
    shape first, then the module's own `grow_from` over that, for what it knows better."""
    axes = getattr(module, "message_tensors", {})
    state = module.state_dict()
    done = {}
    for key, own in state.items():
        if key not in parent:
            done[key] = "new"
        else:
            state[key], done[key] = carry(own, parent[key], axes.get(key), places)
    module.load_state_dict(state)
    done.update({key: "dropped" for key in parent if key not in state})
    hook = getattr(module, "grow_from", None)
    if hook is not None:
        with torch.no_grad():
            done.update(hook(parent, parent_model))
    return done


def carry(own: torch.Tensor, parent: torch.Tensor, axis: int | None,
          places: torch.Tensor | None) -> tuple[torch.Tensor, str]:
    """(tensor, how): `parent` carried into a tensor shaped like `own` (see the module's
    docstring); `own` itself and "new" when nothing fits (another rank, or a kernel's size)."""
    along_message = axis is not None and places is not None and axis < own.dim()
    if parent.shape == own.shape and not (along_message and not _identity(places)):
        return parent.to(own.dtype), "copied"
    if parent.dim() != own.dim() or parent.shape[2:] != own.shape[2:] or own.dim() == 0:
        return own, "new"
    index = []
    for d in range(min(own.dim(), 2)):
        if along_message and d == axis:
            keep = (places >= 0) & (places < own.shape[d])
            index.append((torch.nonzero(keep).flatten(), places[keep]))
        else:
            n = min(own.shape[d], parent.shape[d])
            index.append((torch.arange(n), torch.arange(n)))
    out = own.clone()
    if len(index) == 1:
        out[index[0][1]] = parent[index[0][0]].to(own.dtype)
    else:
        (rows_from, rows), (cols_from, cols) = index
        new_cols = torch.ones(own.shape[1], dtype=torch.bool)
        new_cols[cols] = False
        # the parent's units read nothing from the new inputs: they compute what they did
        out[rows[:, None], torch.nonzero(new_cols).flatten()[None, :]] = 0
        out[rows[:, None], cols[None, :]] = parent[rows_from[:, None], cols_from[None, :]
                                                   ].to(own.dtype)
    grew = all(o >= p for o, p in zip(own.shape, parent.shape))
    shrank = all(o <= p for o, p in zip(own.shape, parent.shape))
    return out, ("rearranged" if grew and shrank else "widened" if grew else "cut")


def _identity(places: torch.Tensor) -> bool:
    return bool((places == torch.arange(len(places))).all())


def message_places(gen, parent_model, tensors: dict) -> torch.Tensor | None:
    """Where each of the parent's message numbers sits in this generator's message (-1: it
    has none): the generator's own `message_places`, else the same place."""
    if parent_model is not None and hasattr(gen, "message_places"):
        return gen.message_places(parent_model)
    readout = tensors.get("decoder.readout.bias")
    if readout is None:
        return None
    n = gen.spec.message_size
    return torch.where(torch.arange(len(readout)) < n, torch.arange(len(readout)), -1)


# ---------------------------------------------------------------------------------------------
# strokes: what their numbers mean, for StrokeGenerator.grow_from and message_places


def chunk_places(parent_layout: tuple[int, int, int], layout: tuple[int, int, int]
                 ) -> torch.Tensor:
    """Message places of exchangeable strokes, (groups, strokes, chunk) each: a parent
    stroke's numbers stay that stroke's, in its ink's group."""
    g0, k0, c0 = parent_layout
    g1, k1, c1 = layout
    g, k, c = torch.meshgrid(torch.arange(g0), torch.arange(k0), torch.arange(c0),
                             indexing="ij")
    places = (g * k1 + k) * c1 + c
    fits = (g < g1) & (k < k1) & (c < c1)
    return torch.where(fits, places, -1).flatten()


def centre_places(parent_n: int, parent_centres: int, n: int, centres: int) -> torch.Tensor:
    """Message places of strokes placed by the message: centres first (two numbers a stroke),
    the rest after them."""
    i = torch.arange(parent_n)
    places = torch.where(i < parent_centres, torch.where(i < centres, i, -1),
                         i - parent_centres + centres)
    return torch.where(places < n, places, -1)


GROW_SAMPLES = 2048  # messages a grown stroke head is fitted on (a second on one core)


def grow_stroke_head(gen, parent_state: dict, parent) -> dict:
    """StrokeGenerator.grow_from: its head grown from a parent of the same design (set or
    not, placed alike). Other segments: the parent's strokes, drawn from this generator's own
    features, are split by de Casteljau (`split_strokes`) and the head refitted to draw them
    (`fit_head`), the parent's rows kept where a number is the parent's own. Other strokes of
    a non-set generator: each kept stroke's rows moved to its place in its ink."""
    m, prefix = gen.spec, "set." if gen.set is not None else ""
    head = gen.set.head if gen.set is not None else gen.head
    old = parent_state.get(f"{prefix}head.weight")
    if parent is None or parent.generator != "strokes" or old is None or \
            (parent.exchangeable, parent.place) != (m.exchangeable, m.place) or \
            old.shape == head.weight.shape:
        return {}
    done = {}
    if m.detail and parent.segments != m.segments:  # bends of other points: start unbent
        done = {f"set.detail.{key}": "new" for key in ("weight", "bias")}
        torch.nn.init.zeros_(gen.set.detail.weight), torch.nn.init.zeros_(gen.set.detail.bias)
    same_strokes = (parent.strokes, parent.inks) == (m.strokes, m.inks) or gen.set is not None
    if parent.segments == m.segments or not same_strokes or parent.detail:
        blocks = ((parent.inks or 1, parent.strokes), (m.inks or 1, m.strokes))
        for key in ("weight", "bias"):
            moved = stroke_rows(parent_state[f"{prefix}head.{key}"].float(),
                                getattr(head, key), blocks, 0, (parent.segments, m.segments))
            if moved is None:
                return done
            getattr(head, key).copy_(moved)
        how = "widened" if parent.segments == m.segments else "split"
        return done | {f"{prefix}head.{key}": how for key in ("weight", "bias")}
    fit_head(gen, head, parent_state[f"{prefix}head.weight"].float(),
             parent_state[f"{prefix}head.bias"].float(), parent)
    return done | {f"{prefix}head.{key}": "split" for key in ("weight", "bias")}


def fit_head(gen, head, weight: torch.Tensor, bias: torch.Tensor, parent) -> None:
    """Refit `head` so that it draws the parent head's strokes (weight, bias), split into this
    generator's segments: least squares over GROW_SAMPLES messages' features, in the head's
    own numbers (the sigmoids undone), the parent's rows kept for the numbers it shares."""
    from .models import place_strokes
    m = gen.spec
    z = torch.randn(GROW_SAMPLES, m.message_size, generator=torch.Generator().manual_seed(0))
    features = gen.features(z).float()
    k = m.strokes * (m.inks or 1)
    raw = (features @ weight.T + bias).view(len(z), k, -1)
    centred = gen.set is not None
    target = raw_of_strokes(m, split_strokes(place_strokes(parent, raw, z), m), z,
                            raw[..., :2] if centred else None)
    inputs = features.flatten(0, -2)
    w, b = fit_rows(inputs, target.flatten(0, 1) if centred else target.flatten(1))
    kept = _kept_rows(parent.segments, m.segments, 2 if centred else 0,
                      1 if centred else k)
    w[kept >= 0], b[kept >= 0] = weight[kept[kept >= 0]], bias[kept[kept >= 0]]
    head.weight.copy_(w), head.bias.copy_(b)


def fit_rows(inputs: torch.Tensor, target: torch.Tensor, ridge: float = 1e-3
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of the linear map inputs -> target of least squared error (ridge
    regularised, so unused features stay near zero)."""
    x = torch.cat([inputs, torch.ones(len(inputs), 1)], 1).double()
    gram = x.T @ x + ridge * len(x) * torch.eye(x.shape[1], dtype=x.dtype)
    solved = torch.linalg.solve(gram, x.T @ target.double()).float()
    return solved[:-1].T.contiguous(), solved[-1].contiguous()


def _kept_rows(s0: int, s1: int, lead: int, blocks: int) -> torch.Tensor:
    """For each head row of S1-segment strokes, the parent row (S0 segments) that gives the
    same number (-1: fitted): the lead numbers, and control points the split keeps."""
    from .strokes import segment_map
    to_points, _ = segment_map(s0, s1)
    p0, p1 = 3 * s0 + 1, 3 * s1 + 1
    block = torch.full((lead + 2 * p1 + s1 + 1,), -1)
    block[:lead] = torch.arange(lead)
    for i, row in enumerate(to_points):
        if (row == 1).sum() == 1 and (row != 0).sum() == 1:  # a point the split keeps
            j = int(row.argmax())
            block[lead + 2 * i:lead + 2 * i + 2] = torch.tensor([lead + 2 * j, lead + 2 * j + 1])
    per0 = lead + 2 * p0 + s0 + 1
    return torch.cat([torch.where(block >= 0, block + b * per0, -1) for b in range(blocks)])


def split_strokes(strokes, model):
    """Strokes with their segments split by de Casteljau to [model] segments: the same
    curves. The brush's envelope runs along the segments, so a joint that moved along it would
    swell or thin: its radius makes up for that, within the width range."""
    from .strokes import Strokes, envelope, segment_map
    s = strokes.segments
    to_points, to_radii = (x.float() for x in segment_map(s, model.segments))
    points = torch.einsum("nm,bkmd->bknd", to_points, strokes.points)
    radii = strokes.radii @ to_radii.T
    if strokes.taper != 1:
        was = to_radii @ torch.linspace(0, 1, s + 1)  # each joint's place on the parent
        radii = radii * envelope(was, strokes.taper) / envelope(
            torch.linspace(0, 1, model.segments + 1), strokes.taper)
    low, high = model.width
    return Strokes(points, radii.clamp(low / 2, high / 2), strokes.taper)


def raw_of_strokes(model, strokes, z: torch.Tensor, centres: torch.Tensor | None
                   ) -> torch.Tensor:
    """The head's numbers (B, K, numbers) that draw `strokes`: models.place_strokes undone
    (a set's centres given, a placed stroke's from its message), the sigmoids' far ends
    clipped so a number stays finite."""
    from .models import PROBIT_TO_LOGIT, STROKE_REACH
    k, eps = strokes.points.shape[1], 1e-4
    unit = ((strokes.points - model.inset) / (1 - 2 * model.inset)).clamp(eps, 1 - eps)
    logits = torch.logit(unit)
    if model.place == "message":
        centres = PROBIT_TO_LOGIT * z[:, :2 * k].float().view(len(z), k, 2)
    if centres is not None:
        reach = ((logits - centres[..., None, :]) / STROKE_REACH).clamp(-0.995, 0.995)
        logits = torch.atanh(reach)
    low, high = model.width
    width = ((2 * strokes.radii - low) / (high - low)).clamp(eps, 1 - eps)
    numbers = [logits.flatten(2), torch.logit(width)]
    if model.exchangeable:
        numbers.insert(0, centres)
    return torch.cat(numbers, -1)


def stroke_rows(parent: torch.Tensor, own: torch.Tensor, blocks: tuple, lead: int,
                segments: tuple[int, int]) -> torch.Tensor | None:
    """A stroke head's weight or bias with its rows moved: `blocks` = ((groups, strokes) of
    the parent, of own) blocks of [lead numbers][control points x, y][joint radii]; each
    stroke the parent drew keeps its place in its ink, its segments split by de Casteljau in
    the head's numbers (exact where segments are unchanged; the sigmoids after bend the new
    points off the parent's curves). New strokes keep their fresh rows. None when segments
    fell (no map)."""
    from .strokes import segment_map
    maps = segment_map(*segments)
    if maps is None:
        return None
    to_points, to_radii = (m.to(parent.dtype) for m in maps)
    (g0, k0), (g1, k1) = blocks
    p0, p1 = (3 * s + 1 for s in segments)
    rest = parent.shape[1:]
    old = parent.reshape(g0, k0, -1, *rest)
    out = own.detach().clone().reshape(g1, k1, -1, *rest)
    for g in range(min(g0, g1)):
        for k in range(min(k0, k1)):
            block = old[g, k]
            points = block[lead:lead + 2 * p0].reshape(p0, 2, *rest)
            out[g, k] = torch.cat([block[:lead],
                                   torch.tensordot(to_points, points, 1).reshape(2 * p1, *rest),
                                   torch.tensordot(to_radii, block[lead + 2 * p0:], 1)])
    return out.reshape(own.shape)
