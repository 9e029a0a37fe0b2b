<!-- title: Cơ cấu tổ chức -->
<h2>Cơ cấu tổ chức</h2>
<ul><li>Văn phòng Sở</li><li>Phòng Xây dựng và Kiểm tra văn bản</li><li>Phòng Phổ biến, giáo dục pháp luật</li><li>Phòng Hành chính tư pháp</li><li>Trung tâm Trợ giúp pháp lý nhà nước</li><li>Phòng Công chứng số 1</li></ul>
