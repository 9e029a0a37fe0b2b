<!-- title: Phổ biến giáo dục pháp luật -->
<h2>Phổ biến, giáo dục pháp luật</h2>
<p>Đề cương giới thiệu Bộ luật Dân sự năm 2015; tài liệu tuyên truyền Luật Hộ tịch; hỏi - đáp pháp luật về hôn nhân và gia đình.</p>
