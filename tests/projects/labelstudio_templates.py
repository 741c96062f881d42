"""Label Studio's standard labeling-config templates and small helpers, shared by the config
translation tests (test_labelstudio_config.py) and the hostile-input tests (..._hostile.py)."""

from projects.schema.labelstudio import schema_from_labelstudio_config

TEMPLATES = {
    "text_classification": """
<View>
  <Text name="text" value="$text"/>
  <View style="box-shadow: 2px 2px 5px #999; padding: 20px;">
    <Header value="Choose text sentiment:"/>
    <Choices name="sentiment" toName="text" choice="single" showInline="true" required="true">
      <Choice value="Positive" hotkey="1"/>
      <Choice value="Negative" hotkey="2"/>
      <Choice value="Neutral"/>
    </Choices>
  </View>
</View>""",
    "ner_with_relations": """
<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="LOC" background="#FFA39E" hotkey="l"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Relations>
    <Relation value="works_for"/>
    <Relation value="located_in"/>
  </Relations>
</View>""",
    "image_bbox": """
<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Airplane" background="green"/>
    <Label value="Car" background="blue"/>
  </RectangleLabels>
</View>""",
    "polygons": """
<View>
  <Header value="Select label and click the image to start"/>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small" opacity="0.9">
    <Label value="Airplane" background="red"/>
    <Label value="Car" background="blue"/>
  </PolygonLabels>
</View>""",
    "keypoints": """
<View>
  <KeyPointLabels name="kp-1" toName="img-1">
    <Label value="Face" background="red"/>
    <Label value="Nose" background="green"/>
  </KeyPointLabels>
  <KeyPointLabels name="kp" toName="img-1">
    <Label value="Left eye" background="#FFA39E"/>
    <Label value="Right eye" background="#D4380D"/>
  </KeyPointLabels>
  <Image name="img-1" value="$img"/>
</View>""",
    "audio_transcription": """
<View>
  <Audio name="audio" value="$audio" zoom="true" hotkey="ctrl+enter"/>
  <Header value="Provide Transcription"/>
  <TextArea name="transcription" toName="audio" rows="4" editable="true" maxSubmissions="1"/>
</View>""",
    "audio_segments": """
<View>
  <Labels name="labels" toName="audio">
    <Label value="Speech"/>
    <Label value="Noise"/>
  </Labels>
  <AudioPlus name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" rows="2" editable="true" perRegion="true" required="true"/>
</View>""",
    "pairwise": """
<View>
  <Header>Select one of two items</Header>
  <Pairwise name="pw" toName="text1,text2"/>
  <Text name="text1" value="$text1"/>
  <Text name="text2" value="$text2"/>
  <Choices name="confident" toName="text1"><Choice value="yes"/><Choice value="no"/></Choices>
</View>""",
    "ranker": """
<View>
  <Style>.htx-text { white-space: pre-wrap; }</Style>
  <Text name="query" value="$q"/>
  <List name="results" value="$items" title="Search results"/>
  <Ranker name="rank" toName="results"/>
</View>""",
    "taxonomy": """
<View>
  <Text name="text" value="$text"/>
  <Taxonomy name="taxonomy" toName="text">
    <Choice value="Archaea"/>
    <Choice value="Bacteria"/>
    <Choice value="Eukarya">
      <Choice value="Human"/>
      <Choice value="Oppossum"/>
      <Choice value="Extraterrestial"/>
    </Choice>
  </Taxonomy>
</View>""",
    "rating": """
<View>
  <Text name="text" value="$text"/>
  <Rating name="rating" toName="text" maxRating="10" icon="star" size="medium"/>
</View>""",
    "video_timeline": """
<View>
  <Video name="video" value="$video_url"/>
  <TimelineLabels name="videoLabels" toName="video">
    <Label value="Kickflip" background="#1BB500"/>
    <Label value="360 Flip" background="#FFA91D"/>
  </TimelineLabels>
</View>""",
    "video_tracking": """
<View>
  <Labels name="videoLabels" toName="video" allowEmpty="true">
    <Label value="Man" background="blue"/>
    <Label value="Woman" background="red"/>
  </Labels>
  <Video name="video" value="$video" framerate="25.0"/>
  <VideoRectangle name="box" toName="video"/>
</View>""",
    "audio_intent": """
<View>
  <Audio name="audio" value="$audio"/>
  <Choices name="intent" toName="audio" choice="single-radio" showInline="true">
    <Choice value="Question"/>
    <Choice value="Request"/>
    <Choice value="Satisfied"/>
  </Choices>
</View>""",
    "image_classification": """
<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image" choice="multiple">
    <Choice value="Adult content" background="#FF0000"/>
    <Choice value="Weapons"/>
    <Choice value="Violence"/>
  </Choices>
</View>""",
    "html_ner": """
<View>
  <HyperTextLabels name="ner" toName="text">
    <Label value="Person" background="green"/>
    <Label value="Organization" background="blue"/>
  </HyperTextLabels>
  <HyperText name="text" value="$text"/>
  <Choices name="relevant" toName="text"><Choice value="yes"/><Choice value="no"/></Choices>
</View>""",
    "machine_translation": """
<View>
  <Text name="text" value="$text"/>
  <Header value="Provide the translation:"/>
  <TextArea name="answer" toName="text" showSubmitButton="true" maxSubmissions="1" editable="true"
            required="true" placeholder="Translation"/>
</View>""",
    "question_answering": """
<View>
  <Header value="Please read the passage"/>
  <Text name="text" value="$text" granularity="word"/>
  <Header value="Select a text span answering the following question:"/>
  <Text name="question" value="$question"/>
  <Labels name="answer" toName="text">
    <Label value="Answer" maxUsages="1" alias="A"/>
  </Labels>
</View>""",
    "conditional": """
<View>
  <Text name="text" value="$text"/>
  <Choices name="why" toName="text" choice="multiple"
           visibleWhen="choice-selected" whenTagName="sentiment" whenChoiceValue="neg">
    <Choice value="Price"/>
    <Choice value="Quality"/>
  </Choices>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive" alias="pos"/>
    <Choice value="Negative" alias="neg" hint="Any complaint counts"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="sentiment">
    <TextArea name="comment" toName="text" placeholder="Why?" maxLength="500"/>
  </View>
</View>""",
}


def translate(name):
    return schema_from_labelstudio_config(TEMPLATES[name])


def controls_of(schema):
    return {c["name"]: c for c in schema["controls"]}
