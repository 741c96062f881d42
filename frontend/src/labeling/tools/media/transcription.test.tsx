import { render } from "preact";
import { describe, expect, it, vi } from "vitest";

import { isNoSpeech, transcriptionTool } from "./segment-tools";

function mount(answer: unknown) {
  const setAnswer = vi.fn();
  const ctx = { result: { transcript: answer }, readOnly: false, setAnswer, setActiveControl: vi.fn() };
  const host = document.createElement("div");
  const Panel = transcriptionTool.Panel!;
  render(<Panel control={{ name: "transcript", type: "transcription", field: "audio" } as never} ctx={ctx as never} field={undefined as never} value={undefined as never} />, host);
  return { host, setAnswer };
}

describe("transcription: no speech", () => {
  it("ticking 'No speech in this clip' answers {no_speech: true}; unticking clears it", () => {
    const { host, setAnswer } = mount("");
    const box = host.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    expect(host.textContent).toContain("No speech in this clip");
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(setAnswer).toHaveBeenLastCalledWith("transcript", { no_speech: true });

    const marked = mount({ no_speech: true });
    const markedBox = marked.host.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    expect(markedBox.checked).toBe(true);
    expect(marked.host.querySelector("textarea")!.readOnly).toBe(true);
    markedBox.checked = false;
    markedBox.dispatchEvent(new Event("change"));
    expect(marked.setAnswer).toHaveBeenLastCalledWith("transcript", "");
  });

  it("knows the value", () => {
    expect([isNoSpeech({ no_speech: true }), isNoSpeech(""), isNoSpeech({ no_speech: false })]).toEqual([true, false, false]);
  });
});
