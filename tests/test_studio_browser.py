"""The studio's pages in a real browser (headless Debian chromium): draw with mouse events and see
the model's completion arrive; move the temperature slider and see it used; open Inside on the
drawing and find its heat maps, and brush a span for the select view; play notes on the computer
keyboard and get the model's continuation."""

from __future__ import annotations

import pytest

from studio_fixtures import Studio, need_studio

need_studio()

from browser import browser, close, wait_for  # noqa: E402


@pytest.fixture(scope="module")
def studio():
    s = Studio()
    yield s
    s.close()


@pytest.fixture(scope="module")
def page(studio):
    drv = browser()
    yield drv
    close(drv)


def model_points(drv) -> int:
    return int(drv.find_element("id", "model-points").text)


def draw_stroke(drv, dx: int = 12, dy: int = 3, steps: int = 10) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    board = drv.find_element("id", "board")
    chain = ActionChains(drv).move_to_element_with_offset(board, -120, 0).click_and_hold()
    for _ in range(steps):
        chain.move_by_offset(dx, dy)
    chain.release().perform()


def test_draw_and_the_model_completes_it(studio, page):
    page.get(studio.base + "/draw?seed=3")
    wait_for(page, "document.body.dataset.ready")
    draw_stroke(page)
    wait_for(page, "Number(document.getElementById('model-points').textContent) > 0")
    wait_for(page, "document.getElementById('state').textContent.startsWith('done')")
    # The completion is drawn on the canvas: red pixels where only the person's black line was.
    red = page.execute_script("""
        const c = document.getElementById('board'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 100 && d[i + 3] > 0) n++;
        return n;""")
    assert model_points(page) > 0 and red > 0
    # Each pen-up sends the whole drawing: at ~20 bytes a point, 10,000 points fit one message.
    assert page.execute_script("return JSON.stringify(points).length / points.length") < 24


def test_the_temperature_slider_is_used(studio, page):
    from selenium.webdriver.common.keys import Keys

    page.find_element("id", "new").click()
    slider = page.find_element("id", "temperature")
    slider.click()
    for _ in range(25):
        slider.send_keys(Keys.ARROW_RIGHT)
    chosen = page.find_element("id", "temperature-value").text
    assert chosen != "0.40"
    draw_stroke(page, dx=-10, dy=5)
    wait_for(page, "Number(document.getElementById('model-points').textContent) > 0")
    assert page.find_element("id", "temperature-used").text == chosen


def test_inside_shows_the_heat_maps_of_the_drawing(studio, page):
    from selenium.webdriver.common.action_chains import ActionChains

    wait_for(page, "document.getElementById('state').textContent.startsWith('done')")
    page.get(studio.base + "/inside")
    wait_for(page, "document.body.dataset.ready")
    page.find_element("id", "look").click()
    frames = int(wait_for(page, "document.body.dataset.inside"))
    inked = """const c = document.getElementById(arguments[0]), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 600) n++; return [c.width, n];"""
    for name in ("prediction", "hidden", "cell"):
        width, coloured = page.execute_script(inked, name)
        assert coloured > 0, name
    assert frames > 10 and page.execute_script(inked, "hidden")[0] == 3 * frames  # the person's and the model's points
    assert "lift" in page.find_element("id", "probs-title").text  # the pen's class names, from the codec
    hidden = page.find_element("id", "hidden")
    page.execute_script("arguments[0].scrollIntoView({block: 'start'})", hidden)
    left, top = -hidden.size["width"] // 2 + 3, -hidden.size["height"] // 2 + 5
    ActionChains(page).move_to_element_with_offset(hidden, left, top).click_and_hold() \
        .move_by_offset(9, 0).release().perform()
    wait_for(page, "document.body.dataset.selected !== undefined")
    assert page.find_element("id", "span").text.count("-") == 1


def test_play_notes_and_get_a_continuation(studio, page):
    from selenium.webdriver.common.action_chains import ActionChains

    page.get(studio.base + "/play?seed=3")
    wait_for(page, "document.body.dataset.ready")
    chain = ActionChains(page)
    for key in "asdfgfdsa":  # C D E F G F E D C
        chain.key_down(key).pause(0.1).key_up(key).pause(0.05)
    chain.perform()
    assert page.find_element("id", "played").text == "9"
    page.find_element("id", "continue").click()
    wait_for(page, "Number(document.getElementById('model-notes').textContent) >= 3")
    assert page.find_element("id", "temperature-used").text == page.find_element("id", "temperature-value").text


def test_another_address_works_in_the_browser_with_its_token():
    """Off loopback the printed URL (with its token) opens the pages, and the cookie it sets lets the
    page's socket in; without the token the page is refused."""
    s = Studio("--host", "0.0.0.0")
    drv = browser()
    try:
        drv.get(s.base + "/draw")
        assert "needs its token" in drv.find_element("tag name", "body").text
        drv.get(s.url)  # http://HOST:PORT/?token=...: redirected to /draw
        wait_for(drv, "document.body.dataset.ready")
        assert drv.find_element("id", "model").get_attribute("value") == "sheep"
        drv.get(s.base + "/draw?seed=3")  # the cookie now carries the token
        wait_for(drv, "document.body.dataset.ready")
        draw_stroke(drv)
        wait_for(drv, "Number(document.getElementById('model-points').textContent) > 0")
    finally:
        close(drv)
        s.close()
